"""A stand-in for the two MLflow entry points Bridge's server calls when
MLflow is installed (mlflow.pyfunc.load_model and
mlflow.pyfunc.scoring_server.init), for testing that path where MLflow
cannot be installed. It is not MLflow."""
