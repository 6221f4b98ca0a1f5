import argparse, os
p = argparse.ArgumentParser()
p.add_argument("--train-size", type=float, default=0.8)
args = p.parse_args()
print("preprocess", os.listdir("/opt/ml/processing/input"), args.train_size)
