// Package sdk is what a reinstall stage plugin is built with: implement Stage
// for each stage kind the plugin serves and call Serve from main. The host
// decodes the stage's HCL body with the plugin's Schema and hands the values
// over; the plugin reaches the container only through Host.
package sdk
