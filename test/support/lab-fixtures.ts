// Stack config the unit tests share: a routed underlay (two subnets joined by the router namespace).

/** crosssubnet over 192.168.19.0/24 and 192.168.20.0/24: master and worker-1 in the first, worker-2 in the second. */
export const ROUTED_LAB = {
  mode: "crosssubnet",
  routedCidr: "192.168.20.0/24",
  hosts: [
    { name: "master", address: "192.168.19.165" },
    { name: "worker-1", address: "192.168.19.166" },
    { name: "worker-2", address: "192.168.20.167" },
  ],
} as const;
