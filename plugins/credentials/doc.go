// Package credentials is the built-in "credentials" plugin: a configure
// stage that merges the old container's /etc/passwd, /etc/shadow, /etc/group
// and /etc/gshadow into the new one (Virtuozzo's reinstall_post), unless --resetpwdb.
package credentials
