fn main() {
    let input = iocmatch_replay::Input::file(std::env::args().nth(1).unwrap());
    let mut r = input.reader().unwrap();
    std::io::copy(&mut r, &mut std::io::stdout()).unwrap();
}
