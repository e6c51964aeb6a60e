//! The status space shared with libgraft: the same numbers on both sides.

/// Outcome of a call across the boundary. Mirrors `graft_status` in `graft/base.h`.
///
/// Values received from C are integers: convert with [`Status::from_raw`], which
/// rejects unknown numbers, never by transmuting.
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Status {
    Ok = 0,
    InvalidArgument = 1,
    NullPointer = 2,
    BufferTooSmall = 3,
    InvalidUtf8 = 4,
    Parse = 5,
    NotFound = 6,
    Unsupported = 7,
    Internal = 8,
    Panic = 9,
    NoMemory = 10,
    InvalidHandle = 11,
    Exists = 12,
    State = 13,
    Io = 14,
    Config = 15,
    Injected = 16,
}

impl Status {
    /// Every status, in numeric order.
    pub const ALL: [Status; 17] = [
        Status::Ok,
        Status::InvalidArgument,
        Status::NullPointer,
        Status::BufferTooSmall,
        Status::InvalidUtf8,
        Status::Parse,
        Status::NotFound,
        Status::Unsupported,
        Status::Internal,
        Status::Panic,
        Status::NoMemory,
        Status::InvalidHandle,
        Status::Exists,
        Status::State,
        Status::Io,
        Status::Config,
        Status::Injected,
    ];

    /// The status for a number received from C, or `None` for an unknown number.
    pub fn from_raw(raw: i32) -> Option<Status> {
        usize::try_from(raw).ok().and_then(|i| Self::ALL.get(i).copied())
    }

    /// The number C sees.
    pub fn as_raw(self) -> i32 {
        self as i32
    }
}
