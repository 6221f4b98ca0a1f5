import os
print("train", os.environ.get("SM_CHANNEL_TRAIN"))
