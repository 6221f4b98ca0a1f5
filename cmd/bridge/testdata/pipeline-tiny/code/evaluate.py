import json, os
os.makedirs("/opt/ml/processing/evaluation", exist_ok=True)
json.dump({"regression_metrics": {"mse": {"value": 0.5}}}, open("/opt/ml/processing/evaluation/evaluation.json", "w"))
print("evaluated: mse 0.5", flush=True)
