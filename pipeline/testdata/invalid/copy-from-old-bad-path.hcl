pipeline "x" {
  stage "provision" "template" {}
  stage "swap" "swap" {}
  stage "start" "start" {}
  stage "configure" "keep" {
    plugin = "copy-from-old"
    paths = [
      "/home",
      "etc/ssh", # ERROR: 9:7 Invalid path to copy
      "/old/home", # ERROR: 10:7 Invalid path to copy
    ]
  }
}
