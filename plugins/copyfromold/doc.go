// Package copyfromold is the built-in copy-from-old plugin: a configure
// stage that copies selected paths (/home, /etc/ssh/ssh_host_*) from the
// old private area into the new one, owners, modes, xattrs, times and hard
// links kept, symlinks copied as links and never followed.
package copyfromold
