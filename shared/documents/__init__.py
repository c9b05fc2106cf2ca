"""Files of requests: the claim-check store (``store``) shared by ingest, which writes
them, the classifier's extraction stage and the router, which read them."""
