// Package health is the built-in "health" plugin: a configure stage that
// waits until the new container works (a command exits 0, TCP ports
// listen, systemd reports running) and fails the stage, so the run rolls
// back to the old container, when it does not within its wait.
package health
