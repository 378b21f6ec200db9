"""AccessLayer's runner for the vendored paho interoperability suites (not part of paho.mqtt.testing).

    run_suite.py client_test.py|client_test5.py HOST PORT [test_name ...]

Runs the suite against HOST:PORT (all tests, or those named, in unittest's order) and prints one line
per finished test: "RESULT <test_name> <pass|fail|error|skip>". The suites parse --hostname/--port
themselves and then call unittest.main(), which would parse the same arguments again and refuse
them; here the suite runs as __main__ with unittest.main replaced by a run of the selected tests.
A test that runs longer than PAHO_TEST_TIMEOUT seconds (default 30; some suite loops wait for a
packet forever and swallow exceptions) is reported as "timeout" and the process exits with 3, so
the caller can run the remaining tests in a new process.
"""
import os, runpy, signal, sys, unittest

TEST_TIMEOUT = int(os.environ.get("PAHO_TEST_TIMEOUT", "30"))


def report(test, outcome):
    print("RESULT", test.id().rsplit(".", 1)[-1], outcome, flush=True)


def main():
    if len(sys.argv) < 4:
        print(__doc__, file=sys.stderr)
        return 2
    suite, host, port, selected = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4:]
    here = os.path.dirname(os.path.abspath(__file__))
    path = os.path.join(here, suite)
    sys.path.insert(0, here)
    running = []

    def on_alarm(signum, frame):
        if running:
            report(running[-1], "timeout")
        sys.stdout.flush()
        os._exit(3)

    class Result(unittest.TextTestResult):
        def startTest(self, test):
            running.append(test)
            signal.alarm(TEST_TIMEOUT)
            super().startTest(test)

        def stopTest(self, test):
            signal.alarm(0)
            super().stopTest(test)
            running.remove(test)

        def addSuccess(self, test):
            super().addSuccess(test)
            report(test, "pass")

        def addFailure(self, test, err):
            super().addFailure(test, err)
            report(test, "fail")

        def addError(self, test, err):
            super().addError(test, err)
            report(test, "error")

        def addSkip(self, test, reason):
            super().addSkip(test, reason)
            report(test, "skip")

    original_main = unittest.main

    def run_selected(*args, **kwargs):
        runner = unittest.TextTestRunner(stream=sys.stdout, verbosity=2, resultclass=Result)
        original_main(module="__main__", argv=[path] + ["Test." + name for name in selected], exit=False, testRunner=runner)

    signal.signal(signal.SIGALRM, on_alarm)
    unittest.main = run_selected
    # Long options only: the suites test `o in ("--help")`, a substring test that "-h" passes.
    sys.argv = [path, "--hostname", host, "--port", port]
    runpy.run_path(path, run_name="__main__")
    return 0


if __name__ == "__main__":
    sys.exit(main())
