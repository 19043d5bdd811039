"""nce.data"""
