# A real sd_notify receiver for tests: binds an AF_UNIX datagram socket (a path,
# or '@name' in the abstract namespace) and prints each datagram as one JSON
# line on stdout; the first line is {"listening": true}.
import json, socket, sys

path = sys.argv[1]
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind('\0' + path[1:] if path.startswith('@') else path)
print(json.dumps({"listening": True}), flush=True)
while True:
    data = s.recv(65536)
    print(json.dumps({"message": data.decode('utf-8', 'replace')}), flush=True)
