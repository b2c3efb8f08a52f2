// Package script is the built-in plugin for the documented custom scripts:
// the reinstall-hook kind runs vps.reinstall on the host, the configure kind
// feeds vps.configure to the shell inside the new container (contract §2.2, §2.5).
package script
