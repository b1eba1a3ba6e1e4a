import Hummingbird

/// Placeholder replaced below as the server is built.
public enum TreeforgeServerModule {}
