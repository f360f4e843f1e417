"""Helpers of the test suite: emulated cameras and card images, real targets (the vendor
build, QEMU), the CLI as a user runs it, the differential command generator, fuzzers."""
