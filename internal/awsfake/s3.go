package awsfake

import (
	"crypto/md5"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"encoding/xml"
	"fmt"
	"hash/crc32"
	"net/http"
	"net/url"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"
)

const s3NS = "http://s3.amazonaws.com/doc/2006-03-01/"

// minPartSize is S3's minimum size of every part but the last.
const minPartSize = 5 << 20

type s3Object struct {
	data     []byte
	etag     string
	modified time.Time
	tags     url.Values
}

type s3Upload struct {
	key   string
	tags  url.Values
	parts map[int]s3Object
}

type s3Bucket struct {
	region  string
	objects map[string]s3Object
	uploads map[string]*s3Upload
}

type s3State struct {
	buckets map[string]*s3Bucket
	foreign map[string]bool
}

func (st *s3State) init(foreign []string) {
	st.buckets = map[string]*s3Bucket{}
	st.foreign = map[string]bool{}
	for _, b := range foreign {
		st.foreign[b] = true
	}
}

// object returns the object an s3://bucket/key URL names.
func (st *s3State) object(u string) (s3Object, string, bool) {
	rest, ok := strings.CutPrefix(u, "s3://")
	if !ok {
		return s3Object{}, "", false
	}
	bucket, key, _ := strings.Cut(rest, "/")
	b := st.buckets[bucket]
	if b == nil {
		return s3Object{}, "", false
	}
	o, ok := b.objects[key]
	return o, bucket, ok
}

// exists reports whether an s3://bucket/key URL names an object.
func (st *s3State) exists(u string) bool {
	_, _, ok := st.object(u)
	return ok
}

// sageMakerCanRead reports whether an execution role with only
// AmazonSageMakerFullAccess may read the object: that policy allows
// s3:GetObject in buckets whose name contains "sagemaker" (in three
// spellings) and on objects tagged SageMaker=true (any case).
func (st *s3State) sageMakerCanRead(u string) bool {
	o, bucket, ok := st.object(u)
	if !ok {
		return false
	}
	for _, s := range []string{"SageMaker", "Sagemaker", "sagemaker"} {
		if strings.Contains(bucket, s) {
			return true
		}
	}
	for k, vs := range o.tags {
		if k == "SageMaker" {
			for _, v := range vs {
				if strings.EqualFold(v, "true") {
					return true
				}
			}
		}
	}
	return false
}

type s3Protocol struct{ s *Server }

// s3Route is the parsed request target.
type s3Route struct {
	bucket, key string
	q           url.Values
}

func parseS3(r *http.Request) s3Route {
	path := strings.TrimPrefix(r.URL.EscapedPath(), "/")
	bucket, key, _ := strings.Cut(path, "/")
	b, _ := url.PathUnescape(bucket)
	k, _ := url.PathUnescape(key)
	return s3Route{bucket: b, key: k, q: r.URL.Query()}
}

// bucketSubresources maps bucket sub-resources Bridge has no business with
// to the IAM action AWS checks, so calls to them show up in policy checks.
var bucketSubresources = map[string][2]string{
	"acl":               {"PutBucketAcl", "GetBucketAcl"},
	"policy":            {"PutBucketPolicy", "GetBucketPolicy"},
	"publicAccessBlock": {"PutBucketPublicAccessBlock", "GetBucketPublicAccessBlock"},
	"tagging":           {"PutBucketTagging", "GetBucketTagging"},
	"versioning":        {"PutBucketVersioning", "GetBucketVersioning"},
	"lifecycle":         {"PutLifecycleConfiguration", "GetLifecycleConfiguration"},
	"encryption":        {"PutEncryptionConfiguration", "GetEncryptionConfiguration"},
	"ownershipControls": {"PutBucketOwnershipControls", "GetBucketOwnershipControls"},
}

func (p s3Protocol) operation(rc *reqCtx) (string, *apiError) {
	rt := parseS3(rc.r)
	bucketARN := "arn:aws:s3:::" + rt.bucket
	objARN := bucketARN + "/" + rt.key
	has := func(k string) bool { _, ok := rt.q[k]; return ok }
	m := rc.r.Method
	if rt.bucket == "" {
		rc.authz("s3:ListAllMyBuckets", "*")
		return "ListBuckets", errorf(501, "NotImplemented", "awsfake: ListBuckets is not emulated")
	}
	if rt.key == "" {
		for sub, ops := range bucketSubresources {
			if has(sub) {
				op := ops[1]
				if m == http.MethodPut || m == http.MethodDelete {
					op = ops[0]
				}
				rc.authz("s3:"+op, bucketARN)
				return op, errorf(501, "NotImplemented", "awsfake: bucket %s is not emulated", sub)
			}
		}
		switch {
		case m == http.MethodPut:
			rc.authz("s3:CreateBucket", bucketARN)
			return "CreateBucket", nil
		case m == http.MethodDelete:
			rc.authz("s3:DeleteBucket", bucketARN)
			return "DeleteBucket", nil
		case m == http.MethodHead:
			rc.authz("s3:ListBucket", bucketARN)
			return "HeadBucket", nil
		case m == http.MethodGet && has("location"):
			rc.authz("s3:GetBucketLocation", bucketARN)
			return "GetBucketLocation", nil
		case m == http.MethodGet && has("uploads"):
			rc.authz("s3:ListBucketMultipartUploads", bucketARN)
			return "ListMultipartUploads", errorf(501, "NotImplemented", "awsfake: ListMultipartUploads is not emulated")
		case m == http.MethodGet && rt.q.Get("list-type") == "2":
			rc.authz("s3:ListBucket", bucketARN)
			return "ListObjectsV2", nil
		case m == http.MethodGet:
			rc.authz("s3:ListBucket", bucketARN)
			return "ListObjects", errorf(501, "NotImplemented", "awsfake: ListObjects (v1) is not emulated; use ListObjectsV2")
		case m == http.MethodPost && has("delete"):
			var d struct {
				Objects []struct{ Key string } `xml:"Object"`
			}
			if err := xml.Unmarshal(rc.body, &d); err != nil {
				return "DeleteObjects", errorf(400, "MalformedXML", "The XML you provided was not well-formed or did not validate against our published schema")
			}
			for _, o := range d.Objects {
				rc.authz("s3:DeleteObject", bucketARN+"/"+o.Key)
			}
			if len(d.Objects) == 0 || len(d.Objects) > 1000 {
				return "DeleteObjects", errorf(400, "MalformedXML", "The XML you provided was not well-formed or did not validate against our published schema")
			}
			return "DeleteObjects", nil
		}
		return m + "Bucket", errorf(405, "MethodNotAllowed", "The specified method is not allowed against this resource.")
	}
	switch {
	case m == http.MethodPut && has("uploadId"):
		rc.authz("s3:PutObject", objARN)
		return "UploadPart", nil
	case m == http.MethodPut && rc.r.Header.Get("X-Amz-Copy-Source") != "":
		rc.authz("s3:PutObject", objARN)
		return "CopyObject", errorf(501, "NotImplemented", "awsfake: CopyObject is not emulated")
	case m == http.MethodPut:
		rc.authz("s3:PutObject", objARN)
		if rc.r.Header.Get("X-Amz-Tagging") != "" {
			rc.authz("s3:PutObjectTagging", objARN)
		}
		return "PutObject", nil
	case m == http.MethodGet:
		rc.authz("s3:GetObject", objARN)
		return "GetObject", nil
	case m == http.MethodHead:
		rc.authz("s3:GetObject", objARN)
		return "HeadObject", nil
	case m == http.MethodDelete && has("uploadId"):
		rc.authz("s3:AbortMultipartUpload", objARN)
		return "AbortMultipartUpload", nil
	case m == http.MethodDelete:
		rc.authz("s3:DeleteObject", objARN)
		return "DeleteObject", nil
	case m == http.MethodPost && has("uploads"):
		rc.authz("s3:PutObject", objARN)
		if rc.r.Header.Get("X-Amz-Tagging") != "" {
			rc.authz("s3:PutObjectTagging", objARN)
		}
		return "CreateMultipartUpload", nil
	case m == http.MethodPost && has("uploadId"):
		rc.authz("s3:PutObject", objARN)
		return "CompleteMultipartUpload", nil
	}
	return m + "Object", errorf(405, "MethodNotAllowed", "The specified method is not allowed against this resource.")
}

func (p s3Protocol) throttle() *apiError {
	return errorf(503, "SlowDown", "Please reduce your request rate.")
}

func (p s3Protocol) unknownKey(key string) *apiError {
	if key == "" {
		return errorf(403, "AccessDenied", "Access Denied")
	}
	return errorf(403, "InvalidAccessKeyId", "The AWS Access Key Id you provided does not exist in our records.")
}

func (p s3Protocol) serverError() *apiError {
	return errorf(500, "InternalError", "We encountered an internal error. Please try again.")
}

func (p s3Protocol) errorResponse(rc *reqCtx, e *apiError) response {
	type errXML struct {
		XMLName   xml.Name `xml:"Error"`
		Code      string
		Message   string
		Resource  string `xml:",omitempty"`
		RequestID string `xml:"RequestId"`
	}
	rid := requestID()
	b, _ := xml.Marshal(errXML{Code: e.code, Message: e.message, Resource: rc.r.URL.Path, RequestID: rid})
	return response{status: e.status, code: e.code, contentType: "application/xml",
		header: map[string]string{"x-amz-request-id": rid}, body: append([]byte(xml.Header), b...)}
}

func s3OK(v any, hdr map[string]string) response {
	if hdr == nil {
		hdr = map[string]string{}
	}
	hdr["x-amz-request-id"] = requestID()
	if v == nil {
		return response{status: 200, header: hdr}
	}
	b, _ := xml.Marshal(v)
	return response{status: 200, contentType: "application/xml", header: hdr, body: append([]byte(xml.Header), b...)}
}

var bucketNameRE = regexp.MustCompile(`^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$`)

func etagOf(b []byte) string {
	sum := md5.Sum(b)
	return `"` + hex.EncodeToString(sum[:]) + `"`
}

func (p s3Protocol) handle(rc *reqCtx) response {
	st := &p.s.s3
	rt := parseS3(rc.r)
	now := p.s.opts.Clock()
	noBucket := func() response {
		if rc.r.Method == http.MethodHead {
			return response{status: 404, code: "NotFound"}
		}
		return p.errorResponse(rc, errorf(404, "NoSuchBucket", "The specified bucket does not exist"))
	}
	b := st.buckets[rt.bucket]
	switch rc.call.Operation {
	case "CreateBucket":
		return p.createBucket(rc, rt)
	case "HeadBucket":
		if b == nil {
			return noBucket()
		}
		return s3OK(nil, map[string]string{"x-amz-bucket-region": b.region})
	case "GetBucketLocation":
		if b == nil {
			return noBucket()
		}
		loc := b.region
		if loc == "us-east-1" {
			loc = ""
		}
		return s3OK(struct {
			XMLName xml.Name `xml:"LocationConstraint"`
			NS      string   `xml:"xmlns,attr"`
			Value   string   `xml:",chardata"`
		}{NS: s3NS, Value: loc}, nil)
	case "DeleteBucket":
		if b == nil {
			return noBucket()
		}
		if len(b.objects) > 0 {
			return p.errorResponse(rc, errorf(409, "BucketNotEmpty", "The bucket you tried to delete is not empty"))
		}
		delete(st.buckets, rt.bucket)
		return response{status: 204, header: map[string]string{"x-amz-request-id": requestID()}}
	case "ListObjectsV2":
		if b == nil {
			return noBucket()
		}
		return p.listObjects(rc, b, rt)
	case "DeleteObjects":
		if b == nil {
			return noBucket()
		}
		var d struct {
			Quiet   bool
			Objects []struct{ Key string } `xml:"Object"`
		}
		xml.Unmarshal(rc.body, &d)
		type deleted struct{ Key string }
		out := struct {
			XMLName xml.Name  `xml:"DeleteResult"`
			NS      string    `xml:"xmlns,attr"`
			Deleted []deleted `xml:"Deleted"`
		}{NS: s3NS}
		for _, o := range d.Objects {
			delete(b.objects, o.Key) // deleting a missing key succeeds, like S3
			if !d.Quiet {
				out.Deleted = append(out.Deleted, deleted{o.Key})
			}
		}
		return s3OK(out, nil)
	}
	if b == nil {
		return noBucket()
	}
	switch rc.call.Operation {
	case "PutObject":
		if err := checkMD5(rc); err != nil {
			return p.errorResponse(rc, err)
		}
		tags, err := url.ParseQuery(rc.r.Header.Get("X-Amz-Tagging"))
		if err != nil {
			return p.errorResponse(rc, errorf(400, "InvalidArgument", "The header 'x-amz-tagging' shall be encoded as UTF-8 then URLEncoded URL query parameters without tag name duplicates."))
		}
		o := s3Object{data: append([]byte(nil), rc.body...), etag: etagOf(rc.body), modified: now, tags: tags}
		b.objects[rt.key] = o
		return s3OK(nil, map[string]string{"ETag": o.etag})
	case "GetObject", "HeadObject":
		o, ok := b.objects[rt.key]
		if !ok {
			if rc.call.Operation == "HeadObject" {
				return response{status: 404, code: "NotFound"}
			}
			return p.errorResponse(rc, errorf(404, "NoSuchKey", "The specified key does not exist."))
		}
		hdr := map[string]string{"ETag": o.etag, "Last-Modified": o.modified.UTC().Format(http.TimeFormat), "x-amz-request-id": requestID()}
		if strings.EqualFold(rc.r.Header.Get("X-Amz-Checksum-Mode"), "ENABLED") && !strings.Contains(o.etag, "-") {
			// Whole-object checksum, as S3 keeps for single-part uploads.
			var sum [4]byte
			binary.BigEndian.PutUint32(sum[:], crc32.ChecksumIEEE(o.data))
			hdr["x-amz-checksum-crc32"] = base64.StdEncoding.EncodeToString(sum[:])
		}
		return response{status: 200, contentType: "application/octet-stream", body: o.data, header: hdr}
	case "DeleteObject":
		delete(b.objects, rt.key)
		return response{status: 204, header: map[string]string{"x-amz-request-id": requestID()}}
	case "CreateMultipartUpload":
		id := requestID()
		tags, err := url.ParseQuery(rc.r.Header.Get("X-Amz-Tagging"))
		if err != nil {
			return p.errorResponse(rc, errorf(400, "InvalidArgument", "The header 'x-amz-tagging' shall be encoded as UTF-8 then URLEncoded URL query parameters without tag name duplicates."))
		}
		b.uploads[id] = &s3Upload{key: rt.key, tags: tags, parts: map[int]s3Object{}}
		return s3OK(struct {
			XMLName  xml.Name `xml:"InitiateMultipartUploadResult"`
			NS       string   `xml:"xmlns,attr"`
			Bucket   string
			Key      string
			UploadID string `xml:"UploadId"`
		}{NS: s3NS, Bucket: rt.bucket, Key: rt.key, UploadID: id}, nil)
	case "UploadPart":
		u := b.uploads[rt.q.Get("uploadId")]
		if u == nil || u.key != rt.key {
			return p.errorResponse(rc, errorf(404, "NoSuchUpload", "The specified upload does not exist. The upload ID may be invalid, or the upload may have been aborted or completed."))
		}
		n, err := strconv.Atoi(rt.q.Get("partNumber"))
		if err != nil || n < 1 || n > 10000 {
			return p.errorResponse(rc, errorf(400, "InvalidArgument", "Part number must be an integer between 1 and 10000, inclusive"))
		}
		if err := checkMD5(rc); err != nil {
			return p.errorResponse(rc, err)
		}
		o := s3Object{data: append([]byte(nil), rc.body...), etag: etagOf(rc.body)}
		u.parts[n] = o
		return s3OK(nil, map[string]string{"ETag": o.etag})
	case "CompleteMultipartUpload":
		return p.completeUpload(rc, b, rt, now)
	case "AbortMultipartUpload":
		if b.uploads[rt.q.Get("uploadId")] == nil {
			return p.errorResponse(rc, errorf(404, "NoSuchUpload", "The specified upload does not exist."))
		}
		delete(b.uploads, rt.q.Get("uploadId"))
		return response{status: 204, header: map[string]string{"x-amz-request-id": requestID()}}
	}
	return p.errorResponse(rc, errorf(501, "NotImplemented", "awsfake: %s is not emulated", rc.call.Operation))
}

func checkMD5(rc *reqCtx) *apiError {
	want := rc.r.Header.Get("Content-MD5")
	if want == "" {
		return nil
	}
	sum := md5.Sum(rc.body)
	if base64.StdEncoding.EncodeToString(sum[:]) != want {
		return errorf(400, "BadDigest", "The Content-MD5 you specified did not match what we received.")
	}
	return nil
}

func (p s3Protocol) createBucket(rc *reqCtx, rt s3Route) response {
	st := &p.s.s3
	if !bucketNameRE.MatchString(rt.bucket) || strings.Contains(rt.bucket, "..") {
		return p.errorResponse(rc, errorf(400, "InvalidBucketName", "The specified bucket is not valid."))
	}
	var cfg struct {
		LocationConstraint string
	}
	if len(rc.body) > 0 {
		if err := xml.Unmarshal(rc.body, &cfg); err != nil {
			return p.errorResponse(rc, errorf(400, "MalformedXML", "The XML you provided was not well-formed or did not validate against our published schema"))
		}
	}
	switch {
	case rc.region == "us-east-1" && cfg.LocationConstraint != "":
		return p.errorResponse(rc, errorf(400, "InvalidLocationConstraint", "The specified location-constraint is not valid"))
	case rc.region != "us-east-1" && cfg.LocationConstraint == "":
		return p.errorResponse(rc, errorf(400, "IllegalLocationConstraintException", "The unspecified location constraint is incompatible for the region specific endpoint this request was sent to."))
	case rc.region != "us-east-1" && cfg.LocationConstraint != rc.region:
		return p.errorResponse(rc, errorf(400, "IllegalLocationConstraintException", "The %s location constraint is incompatible for the region specific endpoint this request was sent to.", cfg.LocationConstraint))
	}
	if st.foreign[rt.bucket] {
		return p.errorResponse(rc, errorf(409, "BucketAlreadyExists", "The requested bucket name is not available. The bucket namespace is shared by all users of the system. Please select a different name and try again."))
	}
	if b := st.buckets[rt.bucket]; b != nil {
		if rc.region == "us-east-1" && b.region == "us-east-1" {
			// Legacy behaviour of us-east-1: re-creating your own bucket succeeds.
			return s3OK(nil, map[string]string{"Location": "/" + rt.bucket})
		}
		return p.errorResponse(rc, errorf(409, "BucketAlreadyOwnedByYou", "Your previous request to create the named bucket succeeded and you already own it."))
	}
	st.buckets[rt.bucket] = &s3Bucket{region: rc.region, objects: map[string]s3Object{}, uploads: map[string]*s3Upload{}}
	return s3OK(nil, map[string]string{"Location": "/" + rt.bucket})
}

func (p s3Protocol) listObjects(rc *reqCtx, b *s3Bucket, rt s3Route) response {
	prefix := rt.q.Get("prefix")
	max := 1000
	if v := rt.q.Get("max-keys"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			return p.errorResponse(rc, errorf(400, "InvalidArgument", "Provided max-keys not an integer or within integer range"))
		}
		if n < max {
			max = n
		}
	}
	after := rt.q.Get("start-after")
	if tok := rt.q.Get("continuation-token"); tok != "" {
		raw, err := base64.StdEncoding.DecodeString(tok)
		if err != nil {
			return p.errorResponse(rc, errorf(400, "InvalidArgument", "The continuation token provided is incorrect"))
		}
		after = string(raw)
	}
	var keys []string
	for k := range b.objects {
		if strings.HasPrefix(k, prefix) && k > after {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	type content struct {
		Key          string
		LastModified string
		ETag         string
		Size         int
		StorageClass string
	}
	type commonPrefix struct{ Prefix string }
	delim := rt.q.Get("delimiter")
	out := struct {
		XMLName               xml.Name `xml:"ListBucketResult"`
		NS                    string   `xml:"xmlns,attr"`
		Name                  string
		Prefix                string
		Delimiter             string `xml:",omitempty"`
		KeyCount              int
		MaxKeys               int
		IsTruncated           bool
		ContinuationToken     string `xml:",omitempty"`
		NextContinuationToken string `xml:",omitempty"`
		Contents              []content
		CommonPrefixes        []commonPrefix
	}{NS: s3NS, Name: rt.bucket, Prefix: prefix, Delimiter: delim, MaxKeys: max, ContinuationToken: rt.q.Get("continuation-token")}
	// Keys sharing the part between the prefix and the delimiter's first
	// occurrence roll up into one common prefix, which counts once against
	// max-keys; the continuation token resumes after the last key consumed.
	last := ""
	for i := 0; i < len(keys); {
		if out.KeyCount == max {
			out.IsTruncated = true
			out.NextContinuationToken = base64.StdEncoding.EncodeToString([]byte(last))
			break
		}
		k := keys[i]
		if delim != "" {
			if j := strings.Index(k[len(prefix):], delim); j >= 0 {
				cp := k[:len(prefix)+j+len(delim)]
				for i < len(keys) && strings.HasPrefix(keys[i], cp) {
					last = keys[i]
					i++
				}
				out.CommonPrefixes = append(out.CommonPrefixes, commonPrefix{cp})
				out.KeyCount++
				continue
			}
		}
		o := b.objects[k]
		out.Contents = append(out.Contents, content{k, o.modified.UTC().Format(time.RFC3339), o.etag, len(o.data), "STANDARD"})
		out.KeyCount++
		last = k
		i++
	}
	return s3OK(out, nil)
}

func (p s3Protocol) completeUpload(rc *reqCtx, b *s3Bucket, rt s3Route, now time.Time) response {
	id := rt.q.Get("uploadId")
	u := b.uploads[id]
	if u == nil || u.key != rt.key {
		return p.errorResponse(rc, errorf(404, "NoSuchUpload", "The specified upload does not exist. The upload ID may be invalid, or the upload may have been aborted or completed."))
	}
	var req struct {
		Parts []struct {
			PartNumber int
			ETag       string
		} `xml:"Part"`
	}
	if err := xml.Unmarshal(rc.body, &req); err != nil || len(req.Parts) == 0 {
		return p.errorResponse(rc, errorf(400, "MalformedXML", "The XML you provided was not well-formed or did not validate against our published schema"))
	}
	var data []byte
	var sums []byte
	last := 0
	for i, part := range req.Parts {
		if part.PartNumber <= last {
			return p.errorResponse(rc, errorf(400, "InvalidPartOrder", "The list of parts was not in ascending order. The parts list must be specified in order by part number."))
		}
		last = part.PartNumber
		o, ok := u.parts[part.PartNumber]
		if !ok || strings.Trim(o.etag, `"`) != strings.Trim(part.ETag, `"`) {
			return p.errorResponse(rc, errorf(400, "InvalidPart", "One or more of the specified parts could not be found. The part may not have been uploaded, or the specified entity tag may not match the part's entity tag."))
		}
		if i < len(req.Parts)-1 && len(o.data) < minPartSize {
			return p.errorResponse(rc, errorf(400, "EntityTooSmall", "Your proposed upload is smaller than the minimum allowed object size."))
		}
		data = append(data, o.data...)
		raw, _ := hex.DecodeString(strings.Trim(o.etag, `"`))
		sums = append(sums, raw...)
	}
	sum := md5.Sum(sums)
	etag := fmt.Sprintf(`"%s-%d"`, hex.EncodeToString(sum[:]), len(req.Parts))
	b.objects[rt.key] = s3Object{data: data, etag: etag, modified: now, tags: u.tags}
	delete(b.uploads, id)
	return s3OK(struct {
		XMLName  xml.Name `xml:"CompleteMultipartUploadResult"`
		NS       string   `xml:"xmlns,attr"`
		Location string
		Bucket   string
		Key      string
		ETag     string
	}{NS: s3NS, Location: "/" + rt.bucket + "/" + rt.key, Bucket: rt.bucket, Key: rt.key, ETag: etag}, nil)
}

// S3 inspection for tests.

// Buckets returns every bucket name, sorted.
func (s *Server) Buckets() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []string
	for b := range s.s3.buckets {
		out = append(out, b)
	}
	sort.Strings(out)
	return out
}

// Objects returns the keys in a bucket, sorted (nil if it does not exist).
func (s *Server) Objects(bucket string) []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	b := s.s3.buckets[bucket]
	if b == nil {
		return nil
	}
	out := []string{}
	for k := range b.objects {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// Object returns an object's content.
func (s *Server) Object(bucket, key string) ([]byte, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	b := s.s3.buckets[bucket]
	if b == nil {
		return nil, false
	}
	o, ok := b.objects[key]
	return o.data, ok
}

// ObjectTags returns an object's tags.
func (s *Server) ObjectTags(bucket, key string) map[string]string {
	s.mu.Lock()
	defer s.mu.Unlock()
	b := s.s3.buckets[bucket]
	if b == nil {
		return nil
	}
	out := map[string]string{}
	for k := range b.objects[key].tags {
		out[k] = b.objects[key].tags.Get(k)
	}
	return out
}

// PendingUploads counts multipart uploads started but neither completed nor
// aborted in a bucket.
func (s *Server) PendingUploads(bucket string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	if b := s.s3.buckets[bucket]; b != nil {
		return len(b.uploads)
	}
	return 0
}
