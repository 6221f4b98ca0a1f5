// Package mlflowerr names the error codes of MLflow's REST API and reads
// them off errors. Bridge's MLflow client (registry/mlflow) and its embedded
// registry (registry/store, served by registry/mlflowapi) share them, so a
// caller asks the same question of either: IsNotFound(err).
package mlflowerr

import "errors"

// MLflow error codes ("error_code" in an error answer).
const (
	NotFound        = "RESOURCE_DOES_NOT_EXIST"
	AlreadyExists   = "RESOURCE_ALREADY_EXISTS"
	Invalid         = "INVALID_PARAMETER_VALUE"
	Unauthenticated = "UNAUTHENTICATED"
)

// Coded is an error that carries an MLflow error code.
type Coded interface {
	error
	MLflowCode() string
}

// Code returns the MLflow error code of the first Coded error in err's
// chain, or "" when there is none (an I/O, network or database failure).
func Code(err error) string {
	var c Coded
	if errors.As(err, &c) {
		return c.MLflowCode()
	}
	return ""
}

// IsNotFound reports whether err is RESOURCE_DOES_NOT_EXIST: a model,
// version, alias, run or artifact does not exist.
func IsNotFound(err error) bool { return Code(err) == NotFound }

// IsAlreadyExists reports whether err is RESOURCE_ALREADY_EXISTS.
func IsAlreadyExists(err error) bool { return Code(err) == AlreadyExists }

// IsInvalid reports whether err is INVALID_PARAMETER_VALUE.
func IsInvalid(err error) bool { return Code(err) == Invalid }
