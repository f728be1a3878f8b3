"""Output files made from a document and its result: the searchable PDF (``ocrd.outputs.pdf``)."""
