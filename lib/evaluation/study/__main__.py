"""``python -m lib.evaluation.study`` regenerates the shipped example answer file."""

from lib.evaluation.study.simulate import write_example_answers

if __name__ == "__main__":
    print(write_example_answers())
