
variable "dir" {
  type    = string
  default = "/etc/vz/site"
}

variable "retries" {
  type    = number
  default = 1
}

variable "paths" {
  type    = list(string)
  default = ["/home"]
}

variable "token" {
  type      = string
  sensitive = true
}

pipeline "x" {
  stage "provision" "template" {}
  stage "swap" "swap" {}
}
