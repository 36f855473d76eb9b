//! mock-upstream: a scriptable fake upstream for tests and benchmarks. Serves every dialect
//! clawgate talks to, with latency, pacing and fault modes. A dev tool: never a dependency of
//! the product.
