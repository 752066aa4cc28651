"""Sentence classification with convolutional networks (Kim 2014): Kim's tokenisation and a
vocabulary built on the training fold only, word2vec/GloVe/fastText readers that keep only the
vocabulary's vectors, and the CNN-rand/static/non-static/multichannel models with the
vocabulary saved inside the model file.

The suite is not registered with the CLI yet: its experiments, datasets and trainer are to come.
"""
