pipeline "x" {
  stage "provision" "template" {}
  stage "swap" "swap" {}
  stage "start" "start" {
    when = ct.hostnme != "" # ERROR: 5:12 Unsupported attribute
  }
}
