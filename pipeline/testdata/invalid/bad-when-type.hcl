pipeline "x" {
  stage "provision" "template" {}
  stage "swap" "swap" {}
  stage "start" "start" {
    when = "yes" # ERROR: 5:12 Invalid when expression
  }
}
