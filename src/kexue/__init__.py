"""kexue-lab: reproducible experiments for the articles of Scientific Spaces (kexue.fm)."""
__version__ = "0.1.0"
