//! The files a call opens, for its audit record: `open-at` of
//! `wasi:filesystem` (every file and directory a plugin opens goes through
//! it) is wrapped so that each path is noted in the call's `Usage`, opened
//! or refused, before and after wasmtime-wasi opens it exactly as before.

use wasmtime::component::{Linker, Resource};
use wasmtime_wasi::filesystem::{Descriptor, WasiFilesystemView};
use wasmtime_wasi::p2::bindings::filesystem::types::{
    self, DescriptorFlags, ErrorCode, HostDescriptor, OpenFlags, PathFlags,
};

use super::state::State;

/// The `wasi:filesystem` interface wasmtime-wasi defines (a component's
/// import of any 0.2.x version is served by it).
const FILESYSTEM_TYPES: &str = "wasi:filesystem/types@0.2.12";

/// Replace `open-at` in `linker` (which has WASI already) with one that
/// notes what it opens.
pub(super) fn note_opened_files(linker: &mut Linker<State>) -> wasmtime::Result<()> {
    linker.allow_shadowing(true);
    let mut instance = linker.instance(FILESYSTEM_TYPES)?;
    instance.func_wrap_async(
        "[method]descriptor.open-at",
        |mut store,
         (fd, path_flags, path, open_flags, flags): (
            Resource<Descriptor>,
            PathFlags,
            String,
            OpenFlags,
            DescriptorFlags,
        )| {
            Box::new(async move {
                let state = store.data_mut();
                let usage = state.call.usage.clone();
                let write = flags.contains(DescriptorFlags::WRITE)
                    || open_flags.intersects(OpenFlags::CREATE | OpenFlags::TRUNCATE);
                let mut view = state.filesystem();
                let opened = HostDescriptor::open_at(
                    &mut view,
                    fd,
                    path_flags,
                    path.clone(),
                    open_flags,
                    flags,
                )
                .await;
                match opened {
                    Ok(fd) => {
                        usage.opened(&path, write, true);
                        Ok((Ok(fd),))
                    }
                    Err(error) => {
                        let code = types::Host::convert_error_code(&mut view, error)?;
                        if matches!(
                            code,
                            ErrorCode::Access | ErrorCode::NotPermitted | ErrorCode::ReadOnly
                        ) {
                            usage.opened(&path, write, false);
                        }
                        Ok((Err(code),))
                    }
                }
            })
        },
    )?;
    linker.allow_shadowing(false);
    Ok(())
}
