print('announcing a good model', flush=True)
