package awsfake

import "strings"

// Model registry inspection and control for tests.

// ThrottleNext makes the next n calls of a model registry operation (e.g.
// ListModelPackages) answer ThrottlingException without doing the work.
func (s *Server) ThrottleNext(op string, n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.sm.pk().throttle[op] = n
}

// PackageMetadata returns a package's CustomerMetadataProperties and
// approval status.
func (s *Server) PackageMetadata(arn string) (meta map[string]string, approval string, ok bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	pkg := s.sm.pk().packages[strings.ToLower(arn)]
	if pkg == nil {
		return nil, "", false
	}
	out := map[string]string{}
	for k, v := range pkg.metadata {
		out[k] = v
	}
	return out, pkg.approval, true
}

// PlantObject stores an object directly, creating the bucket in region if
// needed, without a call being recorded (tests: model data a training
// pipeline uploaded).
func (s *Server) PlantObject(region, bucket, key string, data []byte) {
	s.mu.Lock()
	defer s.mu.Unlock()
	b := s.s3.buckets[bucket]
	if b == nil {
		b = &s3Bucket{region: region, objects: map[string]s3Object{}, uploads: map[string]*s3Upload{}}
		s.s3.buckets[bucket] = b
	}
	b.objects[key] = s3Object{data: append([]byte(nil), data...), etag: etagOf(data), modified: s.opts.Clock()}
}
