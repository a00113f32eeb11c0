// GenomicData module
