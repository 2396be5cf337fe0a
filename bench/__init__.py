"""Fan-out benchmark: the app and a Node `ws` reference server under the same viewer load."""
