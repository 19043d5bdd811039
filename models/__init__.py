"""nce.models"""
