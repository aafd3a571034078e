//! Hook installation. Citus must be loaded first (it refuses to load when these hooks are
//! already set); we save its hooks and chain them, so the sidecar runs before Citus.

mod fmgr;
mod planner;
mod utility;

pub fn init() {
    fmgr::init();
    planner::init();
    utility::init();
}
