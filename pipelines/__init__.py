"""nce.pipelines"""
