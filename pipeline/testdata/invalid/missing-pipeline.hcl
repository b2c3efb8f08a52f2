variable "dir" { # ERROR: 1:1 Missing pipeline block
  default = "/etc/vz/site"
}
