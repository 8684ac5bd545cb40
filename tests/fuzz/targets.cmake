# The fuzz targets: tests/fuzz/fuzz_<name>.c, seeds in corpus/<name>/, inputs
# of fixed crashes in regressions/<name>/.
set(KLEASE_FUZZ_TARGETS microtime kubeconfig exec_credential lease status watch retry_after)
