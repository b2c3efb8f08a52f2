// Package runtime starts, stops, inspects and enters system containers; Native builds them from Linux namespaces,
// with a monitor process per container (__ctmon) as the init's parent. Its mounts exist only in the container's own
// mount namespace: the host never sees one, and nothing can leak when the namespace dies with the init. Tool drives a
// Virtuozzo/OpenVZ host's vzctl or prlctl instead, and Selector picks one of them by name ("auto" detects the tools).
package runtime
