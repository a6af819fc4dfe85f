//! Host-side bindings generated from `wit/mcp.wit`. Nothing else lives here.

wasmtime::component::bindgen!({
    path: "../wit",
    world: "corral:mcp/full",
    imports: { default: trappable },
    exports: { default: async },
});
