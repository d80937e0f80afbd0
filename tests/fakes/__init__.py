"""In-process fakes of the providers Croupier calls: real sockets, real signature checks."""
