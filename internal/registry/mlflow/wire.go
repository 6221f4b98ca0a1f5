package mlflow

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
)

// The types below are MLflow's REST API messages (model_registry.proto and
// mlflow_artifacts.proto) as JSON, with MLflow's field names. Bridge's
// server (registry/mlflowapi) encodes them too, so client and server agree
// on every field by construction.

// Int64 is a JSON int64 that also decodes from a string, since protobuf's
// JSON mapping writes int64 as a string and some MLflow-compatible servers
// do so; it encodes as a number, as MLflow does.
type Int64 int64

// UnmarshalJSON accepts 123 and "123".
func (n *Int64) UnmarshalJSON(b []byte) error {
	b = bytes.Trim(b, `"`)
	if len(b) == 0 || string(b) == "null" {
		*n = 0
		return nil
	}
	v, err := strconv.ParseInt(string(b), 10, 64)
	if err != nil {
		return fmt.Errorf("invalid int64 %s", b)
	}
	*n = Int64(v)
	return nil
}

// Tag is a key-value tag of a registered model or model version.
type Tag struct {
	Key   string `json:"key"`
	Value string `json:"value"`
}

// Alias is a registered model alias and the version it points to.
type Alias struct {
	Alias   string `json:"alias"`
	Version string `json:"version"`
}

// RegisteredModel is MLflow's RegisteredModel message.
type RegisteredModel struct {
	Name                 string         `json:"name"`
	CreationTimestamp    Int64          `json:"creation_timestamp,omitempty"`     // ms since epoch
	LastUpdatedTimestamp Int64          `json:"last_updated_timestamp,omitempty"` // ms since epoch
	UserID               string         `json:"user_id,omitempty"`
	Description          string         `json:"description,omitempty"`
	LatestVersions       []ModelVersion `json:"latest_versions,omitempty"`
	Tags                 []Tag          `json:"tags,omitempty"`
	Aliases              []Alias        `json:"aliases,omitempty"`
}

// ModelVersion is MLflow's ModelVersion message. Version is a decimal
// string ("1"), as in MLflow.
type ModelVersion struct {
	Name                 string   `json:"name"`
	Version              string   `json:"version"`
	CreationTimestamp    Int64    `json:"creation_timestamp,omitempty"`
	LastUpdatedTimestamp Int64    `json:"last_updated_timestamp,omitempty"`
	UserID               string   `json:"user_id,omitempty"`
	CurrentStage         string   `json:"current_stage,omitempty"`
	Description          string   `json:"description,omitempty"`
	Source               string   `json:"source,omitempty"`
	RunID                string   `json:"run_id,omitempty"`
	Status               string   `json:"status,omitempty"` // PENDING_REGISTRATION, FAILED_REGISTRATION, READY
	StatusMessage        string   `json:"status_message,omitempty"`
	Tags                 []Tag    `json:"tags,omitempty"`
	RunLink              string   `json:"run_link,omitempty"`
	Aliases              []string `json:"aliases,omitempty"`
}

// TagMap returns the tags as a map.
func (v ModelVersion) TagMap() map[string]string { return tagMap(v.Tags) }

// TagMap returns the tags as a map.
func (m RegisteredModel) TagMap() map[string]string { return tagMap(m.Tags) }

func tagMap(tags []Tag) map[string]string {
	out := make(map[string]string, len(tags))
	for _, t := range tags {
		out[t.Key] = t.Value
	}
	return out
}

// FileInfo is one entry of an artifact listing. Path is the entry's name
// within the listed directory; FileSize is unset for directories.
type FileInfo struct {
	Path     string `json:"path"`
	IsDir    bool   `json:"is_dir,omitempty"`
	FileSize Int64  `json:"file_size,omitempty"`
}

// RunInfo is the part of MLflow's RunInfo message Bridge uses.
type RunInfo struct {
	RunID          string `json:"run_id"`
	ExperimentID   string `json:"experiment_id,omitempty"`
	RunName        string `json:"run_name,omitempty"`
	Status         string `json:"status,omitempty"`
	ArtifactURI    string `json:"artifact_uri,omitempty"`
	LifecycleStage string `json:"lifecycle_stage,omitempty"`
}

// Run is the part of MLflow's Run message Bridge uses.
type Run struct {
	Info RunInfo `json:"info"`
}

// ErrorResponse is the body of every MLflow error response.
type ErrorResponse struct {
	ErrorCode string `json:"error_code"`
	Message   string `json:"message"`
}

// Requests and responses of the model registry endpoints.
type (
	// CreateRegisteredModelRequest is the body of registered-models/create.
	CreateRegisteredModelRequest struct {
		Name        string `json:"name"`
		Tags        []Tag  `json:"tags,omitempty"`
		Description string `json:"description,omitempty"`
	}
	// RegisteredModelResponse answers registered-models create, get, rename and update.
	RegisteredModelResponse struct {
		RegisteredModel RegisteredModel `json:"registered_model"`
	}
	// RenameRegisteredModelRequest is the body of registered-models/rename.
	RenameRegisteredModelRequest struct {
		Name    string `json:"name"`
		NewName string `json:"new_name"`
	}
	// UpdateRegisteredModelRequest is the body of registered-models/update.
	UpdateRegisteredModelRequest struct {
		Name        string `json:"name"`
		Description string `json:"description"`
	}
	// NameRequest is the body of requests naming only a model.
	NameRequest struct {
		Name string `json:"name"`
	}
	// SearchRegisteredModelsResponse answers registered-models/search.
	SearchRegisteredModelsResponse struct {
		RegisteredModels []RegisteredModel `json:"registered_models,omitempty"`
		NextPageToken    string            `json:"next_page_token,omitempty"`
	}
	// GetLatestVersionsRequest is the body of registered-models/get-latest-versions.
	GetLatestVersionsRequest struct {
		Name   string   `json:"name"`
		Stages []string `json:"stages,omitempty"`
	}
	// ModelVersionsResponse answers get-latest-versions and model-versions/search.
	ModelVersionsResponse struct {
		ModelVersions []ModelVersion `json:"model_versions,omitempty"`
		NextPageToken string         `json:"next_page_token,omitempty"`
	}
	// SetRegisteredModelTagRequest is the body of registered-models/set-tag.
	SetRegisteredModelTagRequest struct {
		Name  string `json:"name"`
		Key   string `json:"key"`
		Value string `json:"value"`
	}
	// DeleteRegisteredModelTagRequest is the body of registered-models/delete-tag.
	DeleteRegisteredModelTagRequest struct {
		Name string `json:"name"`
		Key  string `json:"key"`
	}
	// SetAliasRequest is the body of POST registered-models/alias.
	SetAliasRequest struct {
		Name    string `json:"name"`
		Alias   string `json:"alias"`
		Version string `json:"version"`
	}
	// DeleteAliasRequest is the body of DELETE registered-models/alias.
	DeleteAliasRequest struct {
		Name  string `json:"name"`
		Alias string `json:"alias"`
	}
	// CreateModelVersionRequest is the body of model-versions/create.
	CreateModelVersionRequest struct {
		Name        string `json:"name"`
		Source      string `json:"source"`
		RunID       string `json:"run_id,omitempty"`
		Tags        []Tag  `json:"tags,omitempty"`
		RunLink     string `json:"run_link,omitempty"`
		Description string `json:"description,omitempty"`
	}
	// ModelVersionResponse answers model-versions create, get, update,
	// transition-stage and registered-models/alias (GET).
	ModelVersionResponse struct {
		ModelVersion ModelVersion `json:"model_version"`
	}
	// VersionRequest is the body of requests naming a model version.
	VersionRequest struct {
		Name    string `json:"name"`
		Version string `json:"version"`
	}
	// UpdateModelVersionRequest is the body of model-versions/update.
	UpdateModelVersionRequest struct {
		Name        string `json:"name"`
		Version     string `json:"version"`
		Description string `json:"description"`
	}
	// TransitionStageRequest is the body of model-versions/transition-stage.
	TransitionStageRequest struct {
		Name                    string `json:"name"`
		Version                 string `json:"version"`
		Stage                   string `json:"stage"`
		ArchiveExistingVersions bool   `json:"archive_existing_versions"`
	}
	// SetModelVersionTagRequest is the body of model-versions/set-tag.
	SetModelVersionTagRequest struct {
		Name    string `json:"name"`
		Version string `json:"version"`
		Key     string `json:"key"`
		Value   string `json:"value"`
	}
	// DeleteModelVersionTagRequest is the body of model-versions/delete-tag.
	DeleteModelVersionTagRequest struct {
		Name    string `json:"name"`
		Version string `json:"version"`
		Key     string `json:"key"`
	}
	// DownloadURIResponse answers model-versions/get-download-uri.
	DownloadURIResponse struct {
		ArtifactURI string `json:"artifact_uri"`
	}
	// ListArtifactsResponse answers GET mlflow-artifacts/artifacts?path=.
	ListArtifactsResponse struct {
		Files []FileInfo `json:"files,omitempty"`
	}
	// GetRunResponse answers runs/get.
	GetRunResponse struct {
		Run Run `json:"run"`
	}
)

var _ json.Unmarshaler = (*Int64)(nil)
