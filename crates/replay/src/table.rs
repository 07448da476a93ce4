//! Table names: the category prefix, and the 2019 names mapped to today's.

/// The prefix every streamed category carries.
pub const PREFIX: &str = "AdvancedHunting-";

/// Today's name of a table, given the category's table part.
pub fn modern_name(table: &str) -> &str {
    match table {
        "NetworkCommunicationEvents" => "DeviceNetworkEvents",
        "ProcessCreationEvents" => "DeviceProcessEvents",
        "FileCreationEvents" => "DeviceFileEvents",
        "ImageLoadEvents" => "DeviceImageLoadEvents",
        "MiscEvents" => "DeviceEvents",
        "LogonEvents" => "DeviceLogonEvents",
        "RegistryEvents" => "DeviceRegistryEvents",
        "MachineInfo" => "DeviceInfo",
        "MachineNetworkInfo" => "DeviceNetworkInfo",
        other => other,
    }
}

/// The table of a category, or `None` when it is not a streamed one.
pub fn from_category(category: &str) -> Option<&str> {
    let t = category.strip_prefix(PREFIX)?;
    (!t.is_empty()).then(|| modern_name(t))
}
