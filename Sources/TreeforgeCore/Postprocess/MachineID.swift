import Foundation

/// `machineid-compat` (default true): an empty /usr/etc/machine-id, which
/// systemd fills in on first boot; `false` leaves none, so systemd treats
/// the first boot as such (ConditionFirstBoot=, `systemctl preset-all`).
struct MachineID: PostprocessRule {
    static let path = "usr/etc/machine-id"

    func apply(_ context: PostprocessContext) throws {
        if context.config.machineidCompat {
            try context.root.write(Self.path, Data(), mode: 0o644)
        } else {
            try context.root.removeIfPresent(Self.path)
        }
    }
}
