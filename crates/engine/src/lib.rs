//! clawgate-engine: the in-process llama.cpp provider (`api: "llama-cpp"`), behind a cargo
//! feature. Must not know about: anything above providers (router, agent, gateway).
