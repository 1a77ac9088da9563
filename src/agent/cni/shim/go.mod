module calico-lab/cni-shim

go 1.22
