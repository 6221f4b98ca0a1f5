"""Generate sentence pairs with a similarity score 0-5, in the shape of the
STS benchmark (the public paraphrase corpus itself cannot be shipped)."""
import argparse
import csv
import os
import random

WORDS = ("the a man woman child dog cat bird car train plane city river mountain house garden "
         "walks runs sleeps eats reads writes plays sings drives flies swims looks talks "
         "quickly slowly happily quietly loudly near under over beside through into red blue "
         "green small large old young bright dark warm cold happy sad tall short").split()

parser = argparse.ArgumentParser()
parser.add_argument("--rows", type=int, default=2000)
parser.add_argument("--seed", type=int, default=42)
parser.add_argument("--output", default="/opt/ml/processing/output")
args = parser.parse_args()

rnd = random.Random(args.seed)
os.makedirs(args.output, exist_ok=True)
with open(os.path.join(args.output, "sts_pairs.csv"), "w", newline="") as f:
    w = csv.writer(f)
    w.writerow(["sentence1", "sentence2", "score"])
    for _ in range(args.rows):
        n = rnd.randint(6, 14)
        s1 = [rnd.choice(WORDS) for _ in range(n)]
        changed = rnd.randint(0, n)
        s2 = list(s1)
        for i in rnd.sample(range(n), changed):
            s2[i] = rnd.choice(WORDS)
        if rnd.random() < 0.3:
            rnd.shuffle(s2)
        overlap = len(set(s1) & set(s2)) / len(set(s1) | set(s2))
        score = min(5.0, max(0.0, 5.0 * overlap + rnd.gauss(0, 0.4)))
        w.writerow([" ".join(s1), " ".join(s2), round(score, 2)])
print(f"wrote {args.rows} sentence pairs")
