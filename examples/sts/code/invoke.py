"""Send the pipeline's test rows to the Production endpoint, one request
per row with an inference id (as the seed does with InferenceId=), and
write inference_id,label rows for `bridge monitor ground-truth add`.

usage: invoke.py URL TEST_CSV LABELS_CSV [FLIP]
The test CSV is the pipeline's test split: label first, then the features.
FLIP=1 writes labels far from the truth (5 - label), to see violations."""
import csv
import json
import sys
import urllib.request

url, test_csv, labels_csv = sys.argv[1:4]
flip = len(sys.argv) > 4 and sys.argv[4] == "1"
with open(test_csv) as f, open(labels_csv, "w", newline="") as out:
    w = csv.writer(out)
    w.writerow(["inference_id", "label"])
    for i, row in enumerate(csv.reader(f)):
        label, features = float(row[0]), [float(x) for x in row[1:]]
        inference_id = f"sts-{i:05d}"
        req = urllib.request.Request(url, data=json.dumps({"instances": [features]}).encode(),
                                     headers={"Content-Type": "application/json",
                                              "X-Amzn-SageMaker-Inference-Id": inference_id})
        with urllib.request.urlopen(req, timeout=30) as resp:
            json.load(resp)
        w.writerow([inference_id, int(5 - label if flip else label)])
print(f"{i + 1} requests sent; labels in {labels_csv}")
