"""Model files, nanoGPT-style: one short module per architecture."""
