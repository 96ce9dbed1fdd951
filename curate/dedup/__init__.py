"""Near-duplicate detection: MinHash signatures and LSH band keys (``minhash``), the choice of
bands and rows for a Jaccard threshold (``lsh_params``), the partitioned connected-components
clustering (``cluster``) and the on-disk MinHash index for cross-corpus dedup (``index``)."""
