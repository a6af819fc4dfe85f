//! Host-side bindings generated from `wit/mcp.wit`. Nothing else lives here.

wasmtime::component::bindgen!({
    path: "../wit",
    world: "corral:mcp/mcp-component",
    imports: { default: trappable },
    exports: { default: async },
});
