module shoal.dev/test/sidecar/micrologic

go 1.22
