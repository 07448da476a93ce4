//! Table names: the category prefix, and the 2019 names mapped to today's.

/// The tables the Streaming API is known to write (today's names): the
/// documented ones, and those seen in streams besides.
pub const KNOWN: [&str; 31] = [
    "AlertEvidence",
    "AlertInfo",
    "BehaviorEntities",
    "BehaviorInfo",
    "CloudAppEvents",
    "CloudAuditEvents",
    "CloudProcessEvents",
    "CloudStorageAggregatedEvents",
    "DeviceEvents",
    "DeviceFileCertificateInfo",
    "DeviceFileEvents",
    "DeviceImageLoadEvents",
    "DeviceInfo",
    "DeviceLogonEvents",
    "DeviceNetworkEvents",
    "DeviceNetworkInfo",
    "DeviceProcessEvents",
    "DeviceRegistryEvents",
    "EmailAttachmentInfo",
    "EmailEvents",
    "EmailPostDeliveryEvents",
    "EmailUrlInfo",
    "IdentityDirectoryEvents",
    "IdentityInfo",
    "IdentityLogonEvents",
    "IdentityQueryEvents",
    "MessageEvents",
    "MessagePostDeliveryEvents",
    "MessageUrlInfo",
    "UrlClickEvents",
    "DeviceFileCertificateInfoBeta",
];

/// The known table named `name` (today's or 2019 name, any case), if
/// there is one.
pub fn known(name: &str) -> Option<&'static str> {
    let modern = user_name(name);
    KNOWN.iter().copied().find(|k| k.eq_ignore_ascii_case(&modern))
}

/// Whether indicators are enforced for records of `table`: Defender's
/// custom indicators act on devices, so only the `Device*` tables can
/// raise their alerts (contract v2); hits elsewhere (EmailUrlInfo,
/// UrlClickEvents, AlertEvidence, …) are for hunting only.
pub fn is_device_table(table: &str) -> bool {
    table.starts_with("Device")
}

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

/// Today's name for a table named by a user, in any case and by either
/// its current or its 2019 name (`networkcommunicationevents` gives
/// `DeviceNetworkEvents`). Unknown names come back as given.
pub fn user_name(name: &str) -> String {
    const LEGACY: [&str; 9] = [
        "NetworkCommunicationEvents",
        "ProcessCreationEvents",
        "FileCreationEvents",
        "ImageLoadEvents",
        "MiscEvents",
        "LogonEvents",
        "RegistryEvents",
        "MachineInfo",
        "MachineNetworkInfo",
    ];
    let name = name.trim();
    match LEGACY.iter().find(|l| l.eq_ignore_ascii_case(name)) {
        Some(l) => modern_name(l).to_owned(),
        None => name.to_owned(),
    }
}

/// The table of a category, or `None` when it is not a streamed one.
pub fn from_category(category: &str) -> Option<&str> {
    let t = category.strip_prefix(PREFIX)?;
    (!t.is_empty()).then(|| modern_name(t))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn user_names() {
        assert_eq!(
            user_name("networkcommunicationevents"),
            "DeviceNetworkEvents"
        );
        assert_eq!(user_name(" MachineInfo"), "DeviceInfo");
        assert_eq!(user_name("devicefileevents"), "devicefileevents");
        assert_eq!(
            from_category("AdvancedHunting-MiscEvents"),
            Some("DeviceEvents")
        );
        assert_eq!(from_category("Other-X"), None);
    }
}
