package version

// Version is the release version of reinstall and its built-in plugins.
const Version = "0.1.0"
