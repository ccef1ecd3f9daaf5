//! Print the classifier's gate literals, one per line: the words a line must hold to be read
//! as a request event (`bench/run.sh` scans for them with `rg -c -F -f` as the reference).

fn main() {
    for word in hermes_forensics::classify::GATE_WORDS {
        println!("{word}");
    }
}
