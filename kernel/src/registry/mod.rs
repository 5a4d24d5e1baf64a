//! The registry as the hot path sees it: the snapshot and the parameter structures.
